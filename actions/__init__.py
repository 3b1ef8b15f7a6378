"""Custom actions of the kefu assistant (the action server's package).

Actions stay thin: the complaint procedure lives in kefu.complaint, emotion in
kefu.emotion, the forbidden-behaviour guard in kefu.guard.
"""
