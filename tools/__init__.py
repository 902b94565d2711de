"""Developer and operator commands: the local host, seeding, data builds."""
