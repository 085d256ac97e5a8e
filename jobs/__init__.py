"""Long analyses as jobs: their records, their execution and their signed webhooks. Ray-free and HTTP-free: the queue
is Ray Serve's asynchronous inference (deployments/jobs.py and deployments/task_queue.py hold Ray's side); what a
job is, and what became of it, lives here, in the key store's database."""
