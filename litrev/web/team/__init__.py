"""Team screening in the browser: accounts, the Datasette plugin and its pages (issue 17)."""
