"""`python -m courtdesk serve | migrate | createclerk | seed`."""

import sys

from courtdesk.cli import main

sys.exit(main())
