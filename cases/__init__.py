"""The domains: the case record and its life, with a folder per domain (accounts, deadlines,
routing, court), each holding its pure rules, its models and its actions."""
