"""The CLI's commands, one module per area; ``console.cli`` wires them into one group."""
