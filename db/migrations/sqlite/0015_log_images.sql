-- How many images an image request made (POST /v1/images/generations), kept on its log row and
-- priced by MODEL_PRICES' `image` price; null for every other request.
ALTER TABLE request_logs ADD COLUMN images INTEGER;
