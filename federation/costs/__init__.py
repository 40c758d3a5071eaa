"""Cost sharing between members: the model, settlement statements, periods, what-if."""
