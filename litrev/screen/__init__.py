"""PRISMA 2020 screening: settings, append-only decisions, the session, the terminal, ranking, simulation."""
