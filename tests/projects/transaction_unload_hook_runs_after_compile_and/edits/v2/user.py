import svc
