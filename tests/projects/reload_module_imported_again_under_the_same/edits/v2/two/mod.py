X = 'two, edited'
