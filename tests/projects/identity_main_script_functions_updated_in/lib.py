GREETING = 'hi'
