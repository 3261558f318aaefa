"""Readers of the views: PRISMA, the gap map, status, exports and the public database."""
