"""What an English sentence says, read the same way by every service: numbers written as
words (`numbers`), values such as durations, temperatures and percentages (`values`), and
which of the home's entities, areas and floors it mentions (`mentions`)."""
