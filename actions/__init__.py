"""Custom actions of the kefu assistant (the action server's package).

Actions stay thin: the complaint procedure lives in kefu.complaint, emotion in
kefu.emotion, the forbidden-behaviour guard in kefu.guard.
"""
from kefu.guard.engine import warm_up

# Every text an action builds passes the guard (actions/reply.py). Its rules, spaCy, jieba
# and classifier load here, while the action server starts and before its health check
# answers, instead of in the first customer's turn (seconds: past the balancer's 4.5 s).
warm_up()
