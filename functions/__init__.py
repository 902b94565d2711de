"""Entry points: thin triggers that parse input, call one service function and map errors."""
