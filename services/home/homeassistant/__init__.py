"""The home read from Home Assistant over its WebSocket API and followed while the process
runs: `registries` turns the registries into a `Home` (pure), `connection` speaks the API,
`source` reads and follows with retries."""
