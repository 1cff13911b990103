"""Storage: tables, migrations, the database handle."""
