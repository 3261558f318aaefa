"""litrev on the web: the public site's templates and static files (Datasette)."""
