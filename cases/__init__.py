"""The domains: the case record and its life at the root of the package (models, actions,
journal, intake, transactions), and a folder per domain (accounts, sessions, agreements,
performance, endings, deadlines, routing, court), each holding its pure rules, its models and
its actions."""
