from pkg.mod import V
