from handlers import on_event
