"""Modal screens: confirmations, pickers, help, incident dialogs."""
