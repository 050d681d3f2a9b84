"""Survey distribution: POST /surveys/send queues invitations, send_survey mails them, and their one-click answer
links (GET/POST /r/{token}) record answers through ingest as source `email`."""
