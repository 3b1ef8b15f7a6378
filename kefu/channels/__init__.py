"""Input and output channels of kefu.

- `kefu.channels.wechat.WeChatInput`: the WeChat Official Account (微信公众号) channel,
  registered in credentials.yml as `kefu.channels.wechat.WeChatInput`.
- `kefu.channels.wechat.send_to_customer`: pushes a text (e.g. an agent's reply from the
  desk) to a WeChat customer through the customer-service message API.

The modules are not imported here so that `import kefu.channels` stays cheap (Rasa and
wechatpy are only loaded by whoever uses the WeChat channel).
"""
