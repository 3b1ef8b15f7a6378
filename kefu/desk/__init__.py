"""kefu.desk — the web desk where agents receive hand-offs, talk to the customer and
hand the conversation back to the bot.

    python -m kefu.desk serve --port 5080
    python -m kefu.desk add-agent NAME [--role agent|trainer] [--password-stdin]
"""
