"""An example third-party kopilka plugin."""
