"""The program's scheduler (started by the program)."""

from apscheduler.schedulers.background import BackgroundScheduler

scheduler = BackgroundScheduler()
