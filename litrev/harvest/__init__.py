"""Bringing records in: saved queries, search updates, file imports, citation searching, recall checks."""
