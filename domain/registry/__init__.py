"""Forest carbon registry: methodologies, carbon accounting, eligibility, project lifecycle, serials, inventories."""
