import hotmod
from scenario import edit

import job

edit("job.py")
report = hotmod.reload("job")
print(report.ok, job.V)
