"""Forest inventories in the database: bulk import of sub-compartment CSV files."""
