X = 'two'
