"""The floor for "app on screen": a hello-world Textual app (what any Textual program costs to start)."""

from textual.app import App
from textual.widgets import Static


class Hello(App):
    def compose(self):
        yield Static("HELLO-FLOOR")


if __name__ == "__main__":
    Hello().run()
