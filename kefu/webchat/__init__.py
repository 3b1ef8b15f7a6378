"""The customer web chat: a small page over Rasa's socket.io channel.

- ``python -m kefu.webchat --port 5010`` serves the page (:mod:`kefu.webchat.server`).
- :mod:`kefu.webchat.history` turns a tracker into what the customer may see again
  after a reload (read server-side, so the Rasa token never reaches the browser).
- :mod:`kefu.webchat.channel` is Rasa's ``socketio`` channel that also tells the page
  which messages a person wrote (the stock one drops a message's metadata).
"""
