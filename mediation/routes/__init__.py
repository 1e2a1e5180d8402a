"""Thin routes: parse the request, call one action, render or redirect."""
