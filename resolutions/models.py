# Models arrive with the meetings and resolutions issues.
