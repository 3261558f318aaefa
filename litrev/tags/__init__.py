"""Tags: country and design suggesters, the learned design model, and their storage."""
