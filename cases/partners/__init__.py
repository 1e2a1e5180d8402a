"""Partner platforms as integrations: the partner API's filing, reading and answering."""
