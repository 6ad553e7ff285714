"""Bridge from device links (serial/UART framing, UDP) to MQTT: comes with the mesh."""
