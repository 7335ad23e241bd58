"""The pure core: frameworks, targets, scoring, plain data, messages. No file, workbook or network."""
