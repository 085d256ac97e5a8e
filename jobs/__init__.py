"""Long analyses as jobs: their records, their execution and their signed webhooks. Ray-free (jobs/queue.py only
builds Ray Serve's TaskProcessorConfig, importing Ray when asked): the queue is Ray Serve's asynchronous inference
(deployments/jobs.py); what a job is, and what became of it, lives here, in the key store's database."""
