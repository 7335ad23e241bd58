"""Reading returned workbooks and checking them: xlsx, reader, evaluate, rules, batch."""
