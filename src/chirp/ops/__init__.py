"""Operations endpoints: health checks for monitoring and benchmark ceilings."""
