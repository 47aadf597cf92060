"""The WeChat Official Account channel (微信公众号): safe-mode webhooks stored before
``success``, replies through the customer-service message API within its 48-hour window,
choices as msgmenu, the access token shared through the store."""
