"""What a browser loads: the package's static assets (``assets``), GraphiQL's page
(``graphiql``) and the routes that serve them (``routes``)."""
