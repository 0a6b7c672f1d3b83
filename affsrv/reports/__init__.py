"""Reports: sales, affiliates and links, and today live, from rollups kept with every write."""
