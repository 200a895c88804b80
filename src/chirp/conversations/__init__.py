"""Direct messages: private conversations between the author and the accounts mentioned."""
