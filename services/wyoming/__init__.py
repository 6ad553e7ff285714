"""Home Assistant Assist's Wyoming protocol: slm-mesh as a conversation agent.

`events.py` turns Wyoming events into router requests and router answers into the events
Home Assistant reads (pure); `server.py` serves them over TCP with bounded reads.
"""
