from clos import add_one, same
