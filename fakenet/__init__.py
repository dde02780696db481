"""The fake internet: a private network namespace in which every host of
world.toml exists, with DNS, TLS services, echo/sink endpoints and canary
listeners on every address a sandbox must block, all journalled."""
