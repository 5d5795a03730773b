"""`labeler serve`: the same screens in a browser, one secret link per person.

`tokens` (who a link belongs to) and `people` (what each person's link opens) are plain Python;
`web` is the aiohttp server on top of textual-serve (the `serve` extra), imported only by the command.
"""
