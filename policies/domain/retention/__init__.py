"""What a policy keeps: the retention rule, its simulation over the runs, and its steady state."""
