"""Test support: realistic records, a replay server for the APIs, small builders."""
