"""`python -m cases.court.desk serve | migrate | createclerk | seed`."""

import sys

from cases.court.desk.cli import main

sys.exit(main())
